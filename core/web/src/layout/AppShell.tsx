import { Suspense, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { Bell, Boxes, FileClock, LayoutTemplate, LogOut, Menu, Monitor, Moon, Plug, Server, Sun, User, Users, X } from "lucide-react";
import { useAuth } from "../auth/auth";
import { useTheme, type ThemeChoice } from "../ui/theme";
import { Loading } from "../ui/feedback";

const adminLinks = [
  { to: "/admin/nodes", label: "Nodes", icon: Boxes },
  { to: "/admin/templates", label: "Templates", icon: LayoutTemplate },
  { to: "/admin/users", label: "Users", icon: Users },
  { to: "/admin/alerts", label: "Alerts", icon: Bell },
  { to: "/admin/audit", label: "Audit log", icon: FileClock },
  { to: "/admin/plugins", label: "Plugins", icon: Plug },
];

const nextTheme: Record<ThemeChoice, ThemeChoice> = { system: "dark", dark: "light", light: "system" };

/** AppShell is the frame of every signed-in page: navigation (a drawer
 * on a phone), the theme switch and the account menu. */
export function AppShell() {
  const { account, logout } = useAuth();
  const { choice, setChoice } = useTheme();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const ThemeIcon = choice === "dark" ? Moon : choice === "light" ? Sun : Monitor;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button className="icon-button nav-toggle" aria-label={open ? "Close navigation" : "Open navigation"} aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? <X size={18} /> : <Menu size={18} />}
        </button>
        <NavLink to="/" className="brand">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          Catalyst
        </NavLink>
        <div className="topbar-right">
          <button className="icon-button" onClick={() => setChoice(nextTheme[choice])} aria-label={`Theme: ${choice}. Switch to ${nextTheme[choice]}`} title={`Theme: ${choice}`}>
            <ThemeIcon size={18} />
          </button>
          <NavLink to="/account" className="topbar-user" aria-label="Account">
            <User size={16} aria-hidden />
            <span className="hide-sm">{account?.username ?? ""}</span>
          </NavLink>
          <button className="icon-button" onClick={() => logout()} aria-label="Sign out" title="Sign out">
            <LogOut size={18} />
          </button>
        </div>
      </header>
      <nav className={`sidebar ${open ? "sidebar-open" : ""}`} aria-label="Main" onClick={() => setOpen(false)}>
        <NavLink to="/" end className="nav-link">
          <Server size={16} aria-hidden /> Servers
        </NavLink>
        {account?.admin && (
          <>
            <div className="nav-heading">Administration</div>
            {adminLinks.map(({ to, label, icon: Icon }) => (
              <NavLink key={to} to={to} className="nav-link">
                <Icon size={16} aria-hidden /> {label}
              </NavLink>
            ))}
          </>
        )}
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Suspense fallback={<Loading />} key={location.pathname.split("/").slice(0, 3).join("/")}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
