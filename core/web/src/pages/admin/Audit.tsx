// Placeholder: being built.
export default function Audit() {
  return <div className="page"><h1>Audit</h1></div>;
}
