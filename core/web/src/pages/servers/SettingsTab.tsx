import { useAuth } from "../../auth/auth";
import { useServer } from "./context";
import { DangerZone } from "./settings/DangerZone";
import { DetailsCard } from "./settings/DetailsCard";
import { ResourcesCard } from "./settings/ResourcesCard";
import { RestartCard } from "./settings/RestartCard";
import { SftpCard } from "./settings/SftpCard";
import { TransferCard } from "./settings/TransferCard";

export default function SettingsTab() {
  const { server } = useServer();
  const admin = !!useAuth().account?.admin;
  return (
    <section className="stack" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <div className="settings-columns">
        {/* Each form starts from the server as loaded; a change saved
            elsewhere starts it over. */}
        <DetailsCard key={`details-${server.name}-${server.description}`} server={server} />
        <SftpCard server={server} />
        <ResourcesCard key={`res-${server.memory_mb}-${server.cpu_percent}-${server.disk_mb}-${server.backup_limit}`} server={server} admin={admin} />
        <RestartCard key={`restart-${JSON.stringify(server.restart)}`} server={server} />
      </div>
      {admin && <TransferCard server={server} />}
      <DangerZone server={server} />
    </section>
  );
}
