// Placeholder: being built.
export default function ServerList() {
  return <div className="page"><h1>ServerList</h1></div>;
}
