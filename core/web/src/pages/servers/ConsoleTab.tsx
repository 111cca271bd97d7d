// Placeholder: being built.
export default function ConsoleTab() {
  return <div className="page"><h1>ConsoleTab</h1></div>;
}
