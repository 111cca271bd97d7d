// Placeholder: being built.
export default function Users() {
  return <div className="page"><h1>Users</h1></div>;
}
