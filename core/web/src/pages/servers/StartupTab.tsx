// Placeholder: being built.
export default function StartupTab() {
  return <div className="page"><h1>StartupTab</h1></div>;
}
