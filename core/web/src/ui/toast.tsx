import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from "react";
import { X } from "lucide-react";

export type ToastKind = "info" | "success" | "error";

interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

type Push = (text: string, kind?: ToastKind) => void;

const ToastContext = createContext<Push | null>(null);

/** Toasts are short notices in a polite live region; errors stay until
 * dismissed, the rest go after 5 s. */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);
  const push = useCallback<Push>(
    (text, kind = "info") => {
      const id = next.current++;
      setToasts((ts) => [...ts.slice(-4), { id, kind, text }]);
      if (kind !== "error") setTimeout(() => dismiss(id), 5000);
    },
    [dismiss],
  );
  return (
    <ToastContext.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === "error" ? "alert" : undefined}>
            <span>{t.text}</span>
            <button className="icon-button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              <X size={14} />
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

/** useToast returns push(text, kind). */
export function useToast(): Push {
  const p = useContext(ToastContext);
  if (!p) throw new Error("useToast outside ToastProvider");
  return p;
}
