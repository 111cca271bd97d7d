// Placeholder: being built.
export default function Plugins() {
  return <div className="page"><h1>Plugins</h1></div>;
}
