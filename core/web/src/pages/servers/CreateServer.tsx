// Placeholder: being built.
export default function CreateServer() {
  return <div className="page"><h1>CreateServer</h1></div>;
}
