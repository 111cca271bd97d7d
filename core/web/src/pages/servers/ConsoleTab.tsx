import "@xterm/xterm/css/xterm.css";
import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { Terminal, type ITheme } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import { can, type Server } from "../../api/types";
import { LOG_LINES } from "../../live/socket";
import type { ServerStats } from "../../live/types";
import { EmptyState, Meter } from "../../ui/feedback";
import { percent } from "../../ui/format";
import { useLive, useServer } from "./context";
import { CommandHistory } from "./console/history";
import { daemonTone, installText, noticeText, outputText, statusText, throttledText, usage } from "./console/format";
import { acceptsCommands } from "./power";
import { useTheme } from "../../ui/theme";
import { cssVar } from "../../ui/theme";

const MIB = 1024 * 1024;
const HIDE_CURSOR = "\x1b[?25l";

function terminalTheme(): ITheme {
  const light = document.documentElement.dataset.theme === "light";
  const text = cssVar("--text");
  const muted = cssVar("--text-muted");
  return {
    background: cssVar("--bg-sunken"),
    foreground: text,
    cursor: text,
    cursorAccent: cssVar("--bg-sunken"),
    selectionBackground: cssVar("--accent-soft"),
    black: light ? text : cssVar("--bg-hover"),
    brightBlack: muted,
    white: light ? muted : text,
    brightWhite: text,
    red: cssVar("--bad"),
    brightRed: cssVar("--bad"),
    green: cssVar("--ok"),
    brightGreen: cssVar("--ok"),
    yellow: cssVar("--warn"),
    brightYellow: cssVar("--warn"),
    blue: cssVar("--busy"),
    brightBlue: cssVar("--busy"),
    magenta: cssVar("--accent"),
    brightMagenta: cssVar("--accent"),
  };
}

/** ConsoleTab is the server's console: its output in a terminal, a
 * command line under it, and the live resource use above. */
export default function ConsoleTab() {
  const { server } = useServer();
  if (!can(server, "server.console")) {
    return <EmptyState title="No console access">You need the server.console permission to see this server's console.</EmptyState>;
  }
  return (
    <div className="console-tab">
      <MiniStats server={server} />
      <Console server={server} />
    </div>
  );
}

function Console({ server }: { server: Server }) {
  const { live } = useServer();
  const boxRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const lastState = useRef(server.state);

  useEffect(() => {
    const box = boxRef.current!;
    const term = new Terminal({
      disableStdin: true,
      convertEol: false,
      scrollback: 10_000,
      fontFamily: cssVar("--mono") || "monospace",
      fontSize: 13,
      lineHeight: 1.25,
      cursorStyle: "bar",
      cursorInactiveStyle: "none",
      theme: terminalTheme(),
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box);
    // Output only: no cursor.
    term.write(HIDE_CURSOR);
    const refit = () => {
      try {
        fit.fit();
      } catch {
        // Not laid out yet (hidden, zero size): the next resize fits it.
      }
    };
    refit();
    const ro = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(refit);
    ro?.observe(box);
    window.addEventListener("resize", refit);
    termRef.current = term;
    return () => {
      ro?.disconnect();
      window.removeEventListener("resize", refit);
      termRef.current = null;
      term.dispose();
    };
  }, []);

  const { theme } = useTheme();
  useEffect(() => {
    if (termRef.current) termRef.current.options.theme = terminalTheme();
  }, [theme]);

  // The log answer is the node's own tail of the console, so the terminal
  // is cleared and rewritten from it: lines that came while the socket
  // was away appear once, and none are dropped for looking like another
  // (games print the same line twice legitimately).
  useLive(["console_output", "install_output", "daemon_message", "throttled", "logs", "status", "error"], (m) => {
    const term = termRef.current;
    if (!term) return;
    switch (m.type) {
      case "logs":
        term.reset();
        term.write(HIDE_CURSOR);
        if (m.lines.length === 0) term.write(noticeText("The console is empty so far."));
        else term.write(outputText(m.lines));
        break;
      case "console_output":
        term.write(outputText(m.lines));
        break;
      case "install_output":
        term.write(installText(m.lines));
        break;
      case "daemon_message":
        term.write(noticeText(m.message, daemonTone(m.level)));
        break;
      case "throttled":
        term.write(throttledText(m.source, m.dropped));
        break;
      case "status":
        if (m.state !== lastState.current) term.write(statusText(m));
        lastState.current = m.state as Server["state"];
        break;
      case "error":
        if (m.request === "request_logs") term.write(noticeText(`The console history could not be loaded: ${m.message}`, "error"));
        break;
    }
  });

  // Ask for the log once the socket is open; after a reconnect the socket
  // asks by itself.
  const asked = useRef(false);
  const open = live.state === "open";
  useEffect(() => {
    if (open && !asked.current) asked.current = live.send({ type: "request_logs", lines: LOG_LINES });
  }, [live, open]);

  return (
    <div className="console">
      <div className="console-screen" data-testid="console" ref={boxRef} role="region" aria-label={`Console of ${server.name}`} />
      <CommandLine server={server} />
    </div>
  );
}

function CommandLine({ server }: { server: Server }) {
  const { live } = useServer();
  const [history] = useState(() => new CommandHistory(server.id));
  const [text, setText] = useState("");
  const [error, setError] = useState<string>();
  const hintId = useId();

  useLive(["error"], (m) => {
    if (m.type === "error" && m.request === "send_command") setError(m.message);
  });

  // Only shown with server.console (ConsoleTab checks it).
  const why = !acceptsCommands(server.state)
    ? server.state === "installing"
      ? "The server is installing; commands work once it runs."
      : "The server is not running; start it to send commands."
    : live.state !== "open"
      ? "Not connected to the server's live feed; commands can be sent once it reconnects."
      : undefined;

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") {
      e.preventDefault();
      if (!text.trim()) return;
      if (!live.send({ type: "send_command", command: text })) {
        setError("The command was not sent: the live connection is down.");
        return;
      }
      history.push(text);
      setText("");
      setError(undefined);
    } else if (e.key === "ArrowUp") {
      const prev = history.up(text);
      if (prev !== undefined) {
        e.preventDefault();
        setText(prev);
      }
    } else if (e.key === "ArrowDown") {
      const next = history.down();
      if (next !== undefined) {
        e.preventDefault();
        setText(next);
      }
    }
  };

  return (
    <div className="console-input">
      <span className="console-prompt" aria-hidden>
        &gt;
      </span>
      <input
        className="input mono"
        aria-label="Console command"
        aria-describedby={why || error ? hintId : undefined}
        aria-invalid={error ? true : undefined}
        placeholder={why ? "Commands unavailable" : "Type a command and press Enter (↑ ↓ for history)"}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKey}
        disabled={!!why}
        autoComplete="off"
        spellCheck={false}
        enterKeyHint="send"
      />
      {(why || error) && (
        <p id={hintId} className={error ? "field-error console-note" : "muted small console-note"} role={error ? "alert" : undefined}>
          {error ?? why}
        </p>
      )}
    </div>
  );
}

function MiniStats({ server }: { server: Server }) {
  const { live } = useServer();
  const [stats, setStats] = useState<ServerStats | null>(null);
  useLive(["stats"], (m) => {
    if (m.type === "stats") setStats(m);
  });
  // The socket asks for a sample when it opens; a tab opened later asks
  // again rather than wait for the next one.
  useEffect(() => {
    live.send({ type: "request_stats" });
  }, [live]);

  const memLimit = stats?.memory_limit_bytes || server.memory_mb * MIB;
  const diskLimit = stats?.disk_limit_bytes || server.disk_mb * MIB;
  const cpuLimit = server.cpu_percent || 100;
  return (
    <div className="mini-stats" aria-label="Resource use">
      <div className="mini-stat">
        <span className="muted small">CPU</span>
        {stats ? (
          <Meter value={stats.cpu_percent} max={cpuLimit} label="CPU use" text={`${percent(stats.cpu_percent)} of ${percent(cpuLimit)}`} />
        ) : (
          <span className="muted">–</span>
        )}
      </div>
      <div className="mini-stat">
        <span className="muted small">Memory</span>
        {stats ? <Meter value={stats.memory_bytes} max={memLimit} label="Memory use" text={usage(stats.memory_bytes, memLimit)} /> : <span className="muted">–</span>}
      </div>
      <div className="mini-stat">
        <span className="muted small">Disk</span>
        {stats ? <Meter value={stats.disk_bytes} max={diskLimit} label="Disk use" text={usage(stats.disk_bytes, diskLimit)} /> : <span className="muted">–</span>}
      </div>
    </div>
  );
}
