import { Link } from "react-router";
import { can, type Server } from "../../../api/types";
import { CopyButton } from "./CopyButton";
import { sftpCommand } from "./model";

/** SftpCard tells how to reach the server's files over SFTP. */
export function SftpCard({ server }: { server: Server }) {
  const s = server.sftp;
  return (
    <section className="card" aria-labelledby="sftp-title">
      <h3 id="sftp-title">SFTP</h3>
      {s ? (
        <>
          <dl className="kv sftp-kv">
            <dt>Host</dt>
            <dd>
              <span className="mono">{s.host}</span> <CopyButton text={s.host} label="Copy host" />
            </dd>
            <dt>Port</dt>
            <dd>
              <span className="mono">{s.port}</span> <CopyButton text={String(s.port)} label="Copy port" />
            </dd>
            <dt>User name</dt>
            <dd>
              <span className="mono">{s.username}</span> <CopyButton text={s.username} label="Copy user name" />
            </dd>
          </dl>
          <div className="sftp-command">
            <code>{sftpCommand(s)}</code>
            <CopyButton text={sftpCommand(s)} label="Copy command" />
          </div>
          <p className="muted small">
            Log in with your panel account's password, or with an SSH key you add on your <Link to="/account">account page</Link>. The user name is yours for this
            server only.
          </p>
        </>
      ) : (
        <p className="muted">
          {can(server, "file.sftp")
            ? "This server's node does not serve SFTP, or it is offline right now."
            : "SFTP needs the file.sftp permission on this server; ask its owner for it."}
        </p>
      )}
    </section>
  );
}
