import { useState, type ReactNode } from "react";
import * as RD from "@radix-ui/react-dialog";
import * as AD from "@radix-ui/react-alert-dialog";
import { X } from "lucide-react";
import { Button } from "./Button";
import { Input } from "./Field";
import { errorText } from "../api/client";

interface DialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: ReactNode;
  children: ReactNode;
  /** Buttons, right-aligned under the body. */
  footer?: ReactNode;
  wide?: boolean;
}

/** Dialog is a modal with a title, focus trapped, closed by Escape. */
export function Dialog({ open, onOpenChange, title, description, children, footer, wide }: DialogProps) {
  return (
    <RD.Root open={open} onOpenChange={onOpenChange}>
      <RD.Portal>
        <RD.Overlay className="overlay" />
        <RD.Content className={`dialog ${wide ? "dialog-wide" : ""}`} aria-describedby={description ? undefined : undefined}>
          <div className="dialog-head">
            <RD.Title>{title}</RD.Title>
            <RD.Close asChild>
              <button className="icon-button" aria-label="Close">
                <X size={16} />
              </button>
            </RD.Close>
          </div>
          {description ? <RD.Description className="muted">{description}</RD.Description> : <RD.Description className="sr-only">{title}</RD.Description>}
          <div className="dialog-body">{children}</div>
          {footer && <div className="dialog-foot">{footer}</div>}
        </RD.Content>
      </RD.Portal>
    </RD.Root>
  );
}

interface FormFootProps {
  /** What the form shows of a failed submit that no field shows beside itself. */
  error?: string;
  onCancel: () => void;
  /** The submit button's words. */
  submit: ReactNode;
  busy?: boolean;
  disabled?: boolean;
  danger?: boolean;
}

/** FormFoot ends a dialog's form: the error of a failed submit, then
 * Cancel and the submit button. */
export function FormFoot({ error, onCancel, submit, busy, disabled, danger }: FormFootProps) {
  return (
    <>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-foot">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant={danger ? "danger" : "primary"} busy={busy} disabled={disabled}>
          {submit}
        </Button>
      </div>
    </>
  );
}

interface ConfirmProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  /** Runs on confirm; the dialog stays open showing the error if it throws. */
  onConfirm: () => Promise<unknown> | unknown;
  danger?: boolean;
  /** When set, the user must type this text to enable the button. */
  typeToConfirm?: string;
}

/** ConfirmDialog asks before a destructive or disruptive action. */
export function ConfirmDialog({ open, onOpenChange, title, description, confirmLabel, onConfirm, danger, typeToConfirm }: ConfirmProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [typed, setTyped] = useState("");
  const change = (o: boolean) => {
    if (!o) {
      setError(undefined);
      setTyped("");
    }
    onOpenChange(o);
  };
  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      change(false);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AD.Root open={open} onOpenChange={change}>
      <AD.Portal>
        <AD.Overlay className="overlay" />
        <AD.Content className="dialog">
          <AD.Title>{title}</AD.Title>
          <AD.Description asChild>
            <div className="muted">{description}</div>
          </AD.Description>
          {typeToConfirm && (
            <label className="field">
              <span>
                Type <code>{typeToConfirm}</code> to confirm
              </span>
              <Input value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />
            </label>
          )}
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-foot">
            <AD.Cancel asChild>
              <Button>Cancel</Button>
            </AD.Cancel>
            <Button variant={danger ? "danger" : "primary"} busy={busy} disabled={!!typeToConfirm && typed !== typeToConfirm} onClick={confirm}>
              {confirmLabel}
            </Button>
          </div>
        </AD.Content>
      </AD.Portal>
    </AD.Root>
  );
}
