// Asking before leaving with work in flight (unsaved edits, running
// uploads). The app uses a declarative <BrowserRouter>, where
// react-router's useBlocker is not available, so the guard catches the
// two ways out it can: closing or reloading the page (beforeunload) and
// following a link inside the app (a click on an <a>, caught before the
// router sees it). The browser's back button is not caught.
import { useEffect, useState } from "react";
import { useNavigate } from "react-router";
import { ConfirmDialog } from "../../../ui/Dialog";

interface LeaveGuardProps {
  /** Whether leaving needs asking now. */
  active: boolean;
  title: string;
  description: string;
  confirmLabel: string;
  /** Links to addresses under this path do not leave (e.g. the files tab
   * itself while uploads run). */
  stayWithin?: string;
}

/** LeaveGuard asks before the page is left while active. */
export function LeaveGuard({ active, title, description, confirmLabel, stayWithin }: LeaveGuardProps) {
  const navigate = useNavigate();
  const [pending, setPending] = useState<string | null>(null);

  useEffect(() => {
    if (!active) return;
    const beforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // Older browsers show the prompt only when returnValue is set.
      e.returnValue = "";
    };
    const click = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = e.target instanceof Element ? e.target.closest("a[href]") : null;
      if (!(a instanceof HTMLAnchorElement) || a.hasAttribute("download") || (a.target && a.target !== "_self")) return;
      const url = new URL(a.href, window.location.href);
      if (url.origin !== window.location.origin) return;
      if (stayWithin && (url.pathname === stayWithin || url.pathname.startsWith(stayWithin.replace(/\/?$/, "/")))) return;
      e.preventDefault();
      // One question per click, even when two guards are active.
      e.stopImmediatePropagation();
      setPending(url.pathname + url.search + url.hash);
    };
    window.addEventListener("beforeunload", beforeUnload);
    document.addEventListener("click", click, true);
    return () => {
      window.removeEventListener("beforeunload", beforeUnload);
      document.removeEventListener("click", click, true);
    };
  }, [active, stayWithin]);

  return (
    <ConfirmDialog
      open={pending !== null}
      onOpenChange={(o) => !o && setPending(null)}
      title={title}
      description={description}
      confirmLabel={confirmLabel}
      danger
      onConfirm={() => {
        const to = pending;
        setPending(null);
        if (to) navigate(to);
      }}
    />
  );
}
