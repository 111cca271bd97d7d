import * as RS from "@radix-ui/react-switch";

interface SwitchProps {
  checked: boolean;
  onCheckedChange: (checked: boolean) => void;
  /** The switch's accessible name. */
  label: string;
  disabled?: boolean;
  busy?: boolean;
}

/** Switch is an on/off control that acts at once (a checkbox waits for a
 * form's submit). */
export function Switch({ checked, onCheckedChange, label, disabled, busy }: SwitchProps) {
  return (
    <RS.Root className="switch" checked={checked} onCheckedChange={onCheckedChange} disabled={disabled || busy} aria-label={label} aria-busy={busy || undefined}>
      <RS.Thumb className="switch-thumb" />
    </RS.Root>
  );
}
