// Placeholder: being built.
export default function Alerts() {
  return <div className="page"><h1>Alerts</h1></div>;
}
