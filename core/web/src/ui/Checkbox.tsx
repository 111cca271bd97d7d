import { useId, type ReactNode } from "react";
import * as RC from "@radix-ui/react-checkbox";
import { Check, Minus } from "lucide-react";

interface CheckboxProps {
  checked: boolean | "indeterminate";
  onCheckedChange: (checked: boolean) => void;
  label: ReactNode;
  description?: ReactNode;
  disabled?: boolean;
}

export function Checkbox({ checked, onCheckedChange, label, description, disabled }: CheckboxProps) {
  const id = useId();
  return (
    <div className="checkbox-row">
      <RC.Root id={id} className="checkbox" checked={checked} disabled={disabled} onCheckedChange={(c) => onCheckedChange(c === true)}>
        <RC.Indicator>{checked === "indeterminate" ? <Minus size={12} /> : <Check size={12} />}</RC.Indicator>
      </RC.Root>
      <label htmlFor={id}>
        {label}
        {description && <span className="muted small block">{description}</span>}
      </label>
    </div>
  );
}
