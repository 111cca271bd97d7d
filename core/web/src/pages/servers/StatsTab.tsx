// Placeholder: being built.
export default function StatsTab() {
  return <div className="page"><h1>StatsTab</h1></div>;
}
