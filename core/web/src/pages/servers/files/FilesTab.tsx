// Placeholder: being built.
export default function FilesTab() {
  return <div className="page"><h1>FilesTab</h1></div>;
}
