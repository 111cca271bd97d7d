// Placeholder: being built.
export default function SettingsTab() {
  return <div className="page"><h1>SettingsTab</h1></div>;
}
