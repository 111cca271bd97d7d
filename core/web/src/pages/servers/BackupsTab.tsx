// Placeholder: being built.
export default function BackupsTab() {
  return <div className="page"><h1>BackupsTab</h1></div>;
}
