// Placeholder: being built.
export default function SubusersTab() {
  return <div className="page"><h1>SubusersTab</h1></div>;
}
