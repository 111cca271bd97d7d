// Placeholder: being built.
export default function Nodes() {
  return <div className="page"><h1>Nodes</h1></div>;
}
