// Placeholder: being built.
export default function ServerView() {
  return <div className="page"><h1>ServerView</h1></div>;
}
