// Placeholder: being built.
export default function SchedulesTab() {
  return <div className="page"><h1>SchedulesTab</h1></div>;
}
