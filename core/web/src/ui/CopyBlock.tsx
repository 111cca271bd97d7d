import { useEffect, useState } from "react";
import { Check, Copy } from "lucide-react";
import { Button } from "./Button";

/** CopyBlock shows text to copy (a token, a command) in a code block with
 * a Copy button; the text is selectable as a fallback where the clipboard
 * is not available (plain HTTP). */
export function CopyBlock({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(t);
  }, [copied]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setFailed(false);
      setCopied(true);
    } catch {
      setFailed(true);
    }
  };
  return (
    <div className="copy-block" role="group" aria-label={label}>
      <pre tabIndex={0}>
        <code>{text}</code>
      </pre>
      <div className="row">
        <Button size="sm" onClick={copy} aria-label={`Copy ${label.toLowerCase()}`}>
          {copied ? <Check size={14} aria-hidden /> : <Copy size={14} aria-hidden />}
          {copied ? "Copied" : "Copy"}
        </Button>
        {failed && (
          <span className="muted small" role="status">
            The browser refused the clipboard; select the text and copy it by hand.
          </span>
        )}
      </div>
    </div>
  );
}
