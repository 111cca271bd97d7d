import { useState } from "react";
import { Check, Copy } from "lucide-react";
import { useToast } from "../../../ui/toast";

/** CopyButton copies text to the clipboard; label names what it copies
 * ("Copy host"). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const toast = useToast();
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    } catch {
      toast("The browser did not allow copying; select the text and copy it by hand.", "error");
    }
  };
  return (
    <button type="button" className="icon-button" aria-label={label} title={label} onClick={copy}>
      {done ? <Check size={15} aria-hidden /> : <Copy size={15} aria-hidden />}
    </button>
  );
}
