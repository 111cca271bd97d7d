// Placeholder: being built.
export default function NodeDetail() {
  return <div className="page"><h1>NodeDetail</h1></div>;
}
