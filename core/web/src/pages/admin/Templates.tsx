// Placeholder: being built.
export default function Templates() {
  return <div className="page"><h1>Templates</h1></div>;
}
