import { lazy, type ReactNode } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { useAuth } from "./auth/auth";
import { AppShell } from "./layout/AppShell";
import { Loading } from "./ui/feedback";
import Login from "./pages/Login";
import ServerList from "./pages/servers/ServerList";

// Everything but the login page and the server list loads on first use,
// so the first page stays small.
const CreateServer = lazy(() => import("./pages/servers/CreateServer"));
const ServerView = lazy(() => import("./pages/servers/ServerView"));
const ConsoleTab = lazy(() => import("./pages/servers/ConsoleTab"));
const StatsTab = lazy(() => import("./pages/servers/StatsTab"));
const FilesTab = lazy(() => import("./pages/servers/files/FilesTab"));
const BackupsTab = lazy(() => import("./pages/servers/BackupsTab"));
const SchedulesTab = lazy(() => import("./pages/servers/SchedulesTab"));
const SubusersTab = lazy(() => import("./pages/servers/SubusersTab"));
const StartupTab = lazy(() => import("./pages/servers/StartupTab"));
const SettingsTab = lazy(() => import("./pages/servers/SettingsTab"));
const Account = lazy(() => import("./pages/Account"));
const Nodes = lazy(() => import("./pages/admin/Nodes"));
const NodeDetail = lazy(() => import("./pages/admin/NodeDetail"));
const Templates = lazy(() => import("./pages/admin/Templates"));
const TemplateEdit = lazy(() => import("./pages/admin/TemplateEdit"));
const Users = lazy(() => import("./pages/admin/Users"));
const Alerts = lazy(() => import("./pages/admin/Alerts"));
const Audit = lazy(() => import("./pages/admin/Audit"));
const Plugins = lazy(() => import("./pages/admin/Plugins"));

function RequireAuth({ children }: { children: ReactNode }) {
  const { signedIn, loading } = useAuth();
  const location = useLocation();
  if (!signedIn) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  if (loading) return <Loading />;
  return children;
}

function RequireAdmin({ children }: { children: ReactNode }) {
  const { account } = useAuth();
  if (!account?.admin) return <Navigate to="/" replace />;
  return children;
}

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<Login />} />
      <Route
        element={
          <RequireAuth>
            <AppShell />
          </RequireAuth>
        }
      >
        <Route index element={<ServerList />} />
        <Route path="servers/new" element={<CreateServer />} />
        <Route path="servers/:id" element={<ServerView />}>
          <Route index element={<Navigate to="console" replace />} />
          <Route path="console" element={<ConsoleTab />} />
          <Route path="stats" element={<StatsTab />} />
          <Route path="files/*" element={<FilesTab />} />
          <Route path="backups" element={<BackupsTab />} />
          <Route path="schedules" element={<SchedulesTab />} />
          <Route path="users" element={<SubusersTab />} />
          <Route path="startup" element={<StartupTab />} />
          <Route path="settings" element={<SettingsTab />} />
        </Route>
        <Route path="account" element={<Account />} />
        <Route
          path="admin/*"
          element={
            <RequireAdmin>
              <Routes>
                <Route path="nodes" element={<Nodes />} />
                <Route path="nodes/:nid" element={<NodeDetail />} />
                <Route path="templates" element={<Templates />} />
                <Route path="templates/:tid" element={<TemplateEdit />} />
                <Route path="users" element={<Users />} />
                <Route path="alerts" element={<Alerts />} />
                <Route path="audit" element={<Audit />} />
                <Route path="plugins" element={<Plugins />} />
                <Route path="*" element={<Navigate to="/admin/nodes" replace />} />
              </Routes>
            </RequireAdmin>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

function NotFound() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p className="muted">There is nothing at this address.</p>
    </div>
  );
}
