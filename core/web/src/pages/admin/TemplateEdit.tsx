// Placeholder: being built.
export default function TemplateEdit() {
  return <div className="page"><h1>TemplateEdit</h1></div>;
}
