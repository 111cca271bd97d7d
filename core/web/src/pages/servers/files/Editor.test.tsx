import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { EditorView } from "@codemirror/view";
import { FakeVolume, renderFiles, SERVER_ID } from "./testing";

// A ceiling, not a measure: these tests click and type through whole
// flows, and a busy machine runs jsdom slowly.
vi.setConfig({ testTimeout: 30_000 });

const base = `/servers/${SERVER_ID}/files`;

function volume() {
  return new FakeVolume({
    "/server.properties": "motd=hello\nmax-players=20\n",
    "/windows.ini": "[a]\r\nx=1\r\n",
    "/server.jar": new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00]),
    "/config/bukkit.yml": "settings:\n  allow-end: true\n",
  });
}

/** view is the open editor's CodeMirror view, once it is there. */
async function view(): Promise<EditorView> {
  const content = await screen.findByRole("textbox");
  await waitFor(() => expect(document.querySelector(".cm-content")).toBeInTheDocument());
  return EditorView.findFromDOM(content.closest(".cm-editor") as HTMLElement)!;
}

/** typeAt edits as a keystroke would. */
function typeAt(v: EditorView, at: number, text: string) {
  act(() => v.dispatch({ changes: { from: at, insert: text }, userEvent: "input.type" }));
}

describe("editor", () => {
  it("opens a text file from the list, saves it with Save, and says so", async () => {
    const vol = volume();
    const { user, where } = renderFiles(vol);
    await user.click(await screen.findByRole("button", { name: "server.properties" }));
    expect(where()).toBe(`${base}/?edit=server.properties`);
    const v = await view();
    expect(document.querySelector(".cm-content")).toHaveTextContent("motd=hello");
    expect(v.state.doc.toString()).toBe("motd=hello\nmax-players=20\n");
    const crumbs = screen.getByRole("navigation", { name: "Breadcrumb" });
    expect(within(crumbs).getByText("server.properties")).toHaveAttribute("aria-current", "page");

    typeAt(v, 0, "# edited\n");
    expect(screen.getByText("Unsaved changes")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved server.properties")).toBeInTheDocument();
    expect(vol.text("/server.properties")).toBe("# edited\nmotd=hello\nmax-players=20\n");
    expect(screen.queryByText("Unsaved changes")).not.toBeInTheDocument();
    const put = vol.calls("PUT", "/content")[0];
    expect(put.query.get("path")).toBe("/server.properties");
  });

  it("reopens from the address and saves with Ctrl+S, keeping Windows line endings", async () => {
    const vol = volume();
    renderFiles(vol, { url: `${base}/?edit=windows.ini` });
    const v = await view();
    expect(v.state.doc.lines).toBe(3);
    typeAt(v, v.state.doc.length, "y=2\n");
    fireEvent.keyDown(v.contentDOM, { key: "s", ctrlKey: true });
    expect(await screen.findByText("Saved windows.ini")).toBeInTheDocument();
    expect(vol.text("/windows.ini")).toBe("[a]\r\nx=1\r\ny=2\r\n");
  });

  it("asks before overwriting a file changed on the server since it was opened", async () => {
    const vol = volume();
    const { user } = renderFiles(vol, { url: `${base}/config?edit=bukkit.yml` });
    const v = await view();
    vol.write("/config/bukkit.yml", new TextEncoder().encode("changed by the game\n"));
    typeAt(v, 0, "# mine\n");
    await user.click(screen.getByRole("button", { name: "Save" }));
    const dialog = await screen.findByRole("alertdialog", { name: "The file changed on the server" });
    expect(vol.text("/config/bukkit.yml")).toBe("changed by the game\n");
    await user.click(within(dialog).getByRole("button", { name: "Overwrite" }));
    expect(await screen.findByText("Saved bukkit.yml")).toBeInTheDocument();
    expect(vol.text("/config/bukkit.yml")).toBe("# mine\nsettings:\n  allow-end: true\n");
  });

  it("shows why a save failed and keeps the changes", async () => {
    const vol = volume();
    vol.intercept = (r) =>
      r.method === "PUT" ? new Response(JSON.stringify({ error: { code: "over_quota", message: "the write does not fit the disk limit of 1 GiB" } }), { status: 507 }) : undefined;
    const { user } = renderFiles(vol, { url: `${base}/?edit=server.properties` });
    const v = await view();
    typeAt(v, 0, "x");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("the write does not fit the disk limit of 1 GiB")).toBeInTheDocument();
    expect(screen.getByText("Could not save server.properties")).toBeInTheDocument();
    expect(screen.getByText("Unsaved changes")).toBeInTheDocument();
  });

  it("is read-only without file.write", async () => {
    renderFiles(volume(), { url: `${base}/?edit=server.properties`, permissions: ["file.read", "file.read-content"] });
    const v = await view();
    expect(v.state.readOnly).toBe(true);
    expect(screen.getByText("Read-only")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save" })).not.toBeInTheDocument();
  });

  it("creates a new file on its first save", async () => {
    const vol = volume();
    const { user, where } = renderFiles(vol, { url: `${base}/config` });
    await user.click(await screen.findByRole("button", { name: /New file/ }));
    await user.type(within(await screen.findByRole("dialog", { name: "New file" })).getByLabelText("File name"), "motd.txt{Enter}");
    expect(where()).toBe(`${base}/config?edit=motd.txt&new=1`);
    const v = await view();
    expect(v.state.doc.toString()).toBe("");
    typeAt(v, 0, "Welcome!");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved motd.txt")).toBeInTheDocument();
    expect(vol.text("/config/motd.txt")).toBe("Welcome!");
    await waitFor(() => expect(where()).toBe(`${base}/config?edit=motd.txt`));
    // The text stays in the editor when the address loses new=1.
    expect((await view()).state.doc.toString()).toBe("Welcome!");
  });

  it("offers a download instead of showing a binary file", async () => {
    renderFiles(volume(), { url: `${base}/?edit=server.jar` });
    expect(await screen.findByText("This is a binary file; the editor shows text only.")).toBeInTheDocument();
    expect(screen.getAllByRole("button", { name: "Download" }).length).toBeGreaterThan(0);
    expect(document.querySelector(".cm-content")).toBeNull();
  });

  it("asks before closing or following a link with unsaved changes", async () => {
    const { user, where } = renderFiles(volume(), { url: `${base}/config?edit=bukkit.yml` });
    const v = await view();
    typeAt(v, 0, "x");
    await user.click(screen.getByRole("button", { name: "Close" }));
    const ask = await screen.findByRole("alertdialog", { name: "Discard unsaved changes?" });
    await user.click(within(ask).getByRole("button", { name: "Cancel" }));
    expect(where()).toBe(`${base}/config?edit=bukkit.yml`);

    await user.click(within(screen.getByRole("navigation", { name: "Breadcrumb" })).getByRole("link", { name: "home" }));
    const leave = await screen.findByRole("alertdialog", { name: "Leave with unsaved changes?" });
    expect(where()).toBe(`${base}/config?edit=bukkit.yml`);
    await user.click(within(leave).getByRole("button", { name: "Discard changes" }));
    await waitFor(() => expect(where()).toBe(`${base}/`));
    expect(await screen.findByRole("link", { name: "config" })).toBeInTheDocument();
  });

  it("closes straight back to the folder when nothing changed", async () => {
    const { user, where } = renderFiles(volume(), { url: `${base}/config?edit=bukkit.yml` });
    await view();
    await user.click(screen.getByRole("button", { name: "Close" }));
    expect(where()).toBe(`${base}/config`);
  });
});
