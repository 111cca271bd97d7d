import { afterEach, describe, expect, it, vi } from "vitest";
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { FakeVolume, installUploads, renderFiles, SERVER_ID } from "./testing";

// A ceiling, not a measure: these tests click and type through whole
// flows, and a busy machine runs jsdom slowly.
vi.setConfig({ testTimeout: 30_000 });

const base = `/servers/${SERVER_ID}/files`;

function volume() {
  return new FakeVolume({
    "/server.properties": "motd=hello\n",
    "/server.jar": new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00]),
    "/world/level.dat": new Uint8Array([1, 2, 3]),
    "/world/region": null,
    "/config/bukkit.yml": "settings:\n  allow-end: true\n",
    "/my world/#1 notes.txt": "odd name",
  });
}

const rowOf = (name: string) => screen.getByText(name, { selector: ".files-name, .files-name-plain" }).closest("tr")!;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("browsing", () => {
  it("lists folders first, each a link, and files as buttons named by the file", async () => {
    renderFiles(volume());
    const table = await screen.findByRole("table");
    const names = within(table)
      .getAllByRole("row")
      .slice(1)
      .map((r) => r.querySelector(".files-name")?.textContent);
    expect(names).toEqual(["config", "my world", "world", "server.jar", "server.properties"]);
    expect(screen.getByRole("link", { name: "config" })).toHaveAttribute("href", `${base}/config`);
    expect(screen.getByRole("button", { name: "server.properties" })).toBeInTheDocument();
    expect(within(rowOf("server.properties")).getByText("-rw-r--r--")).toBeInTheDocument();
    expect(within(rowOf("server.properties")).getByText("11 B")).toBeInTheDocument();
  });

  it("keeps the folder in the address and links every level in the breadcrumb", async () => {
    const v = volume();
    const { user, where } = renderFiles(v);
    await user.click(await screen.findByRole("link", { name: "my world" }));
    expect(where()).toBe(`${base}/my%20world`);
    expect(await screen.findByRole("button", { name: "#1 notes.txt" })).toBeInTheDocument();
    const crumbs = screen.getByRole("navigation", { name: "Breadcrumb" });
    expect(within(crumbs).getByRole("link", { name: "my world" })).toHaveAttribute("aria-current", "page");
    await user.click(within(crumbs).getByRole("link", { name: "home" }));
    expect(where()).toBe(`${base}/`);
    expect(await screen.findByRole("link", { name: "config" })).toBeInTheDocument();
    expect(v.calls("GET", "").map((r) => r.query.get("path"))).toEqual(["/", "/my world", "/"]);
  });

  it("opens a deep address directly", async () => {
    renderFiles(volume(), { url: `${base}/world` });
    expect(await screen.findByRole("link", { name: "region" })).toHaveAttribute("href", `${base}/world/region`);
    expect(screen.getByRole("button", { name: "level.dat" })).toBeInTheDocument();
  });

  it("says so when a folder is empty", async () => {
    renderFiles(volume(), { url: `${base}/world/region` });
    expect(await screen.findByText("This folder is empty")).toBeInTheDocument();
    expect(screen.getByText(/Drop files here or use Upload/)).toBeInTheDocument();
  });

  it("shows the API's message when the node cannot be reached, and retries", async () => {
    const v = volume();
    let down = true;
    v.intercept = () => (down ? new Response(JSON.stringify({ error: { code: "node_offline", message: "the server's node is offline" } }), { status: 503 }) : undefined);
    const { user } = renderFiles(v);
    expect(await screen.findByText("the server's node is offline")).toBeInTheDocument();
    down = false;
    await user.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findByRole("link", { name: "config" })).toBeInTheDocument();
  });

  it("sorts through the API and flips the order on a second click", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(screen.getByRole("button", { name: "Size" }));
    await waitFor(() => expect(v.calls("GET", "").at(-1)?.query.get("sort")).toBe("size"));
    expect(v.calls("GET", "").at(-1)?.query.get("order")).toBe("desc");
    expect(screen.getByRole("columnheader", { name: /Size/ })).toHaveAttribute("aria-sort", "descending");
    await user.click(screen.getByRole("button", { name: "Size" }));
    await waitFor(() => expect(v.calls("GET", "").at(-1)?.query.get("order")).toBe("asc"));
  });

  it("pages through a big folder with Load more", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 450; i++) files[`/logs/f${String(i).padStart(3, "0")}.log`] = "x";
    const v = new FakeVolume(files);
    const { user } = renderFiles(v, { url: `${base}/logs` });
    // Text queries: role queries walk every element of a DOM this big.
    expect(await screen.findByText("Showing 200 of 450")).toBeInTheDocument();
    await user.click(screen.getByText("Load more"));
    expect(await screen.findByText("Showing 400 of 450")).toBeInTheDocument();
    await user.click(screen.getByText("Load more"));
    expect(await screen.findByText("450 items")).toBeInTheDocument();
    expect(screen.queryByText("Load more")).not.toBeInTheDocument();
    expect(v.calls("GET", "").map((r) => r.query.get("offset"))).toEqual(["0", "200", "400"]);
    expect(screen.getByText("f449.log").tagName).toBe("BUTTON");
  }, 90_000);

  it("keeps the loaded entries when the next page fails, and says why", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 250; i++) files[`/logs/f${String(i).padStart(3, "0")}.log`] = "x";
    const v = new FakeVolume(files);
    let down = false;
    v.intercept = () => (down ? new Response(JSON.stringify({ error: { code: "node_offline", message: "the server's node is offline" } }), { status: 503 }) : undefined);
    const { user } = renderFiles(v, { url: `${base}/logs` });
    expect(await screen.findByText("Showing 200 of 250")).toBeInTheDocument();
    down = true;
    await user.click(screen.getByText("Load more"));
    expect(await screen.findByText(/The next page did not load: the server's node is offline/)).toBeInTheDocument();
    expect(screen.getByText("f199.log")).toBeInTheDocument();
    expect(screen.queryByText("Could not list this folder")).not.toBeInTheDocument();
    down = false;
    await user.click(screen.getByText("Load more"));
    expect(await screen.findByText("250 items")).toBeInTheDocument();
  }, 90_000);

  it("searches below the folder and shows where each hit is", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.type(screen.getByRole("searchbox", { name: "Search files" }), "LEVEL{Enter}");
    expect(await screen.findByText(/1 match for “LEVEL” in \//)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "level.dat" })).toBeInTheDocument();
    expect(screen.getByText("world/level.dat")).toBeInTheDocument();
    expect(v.calls("GET", "/search")[0].query.get("query")).toBe("LEVEL");
    await user.click(screen.getByRole("button", { name: "Clear search" }));
    expect(await screen.findByRole("link", { name: "config" })).toBeInTheDocument();
  });
});

describe("permissions", () => {
  it("offers no changes to a reader", async () => {
    const { user } = renderFiles(volume(), { permissions: ["file.read", "file.read-content"] });
    await screen.findByRole("table");
    expect(screen.queryByLabelText("Upload files")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /New folder/ })).not.toBeInTheDocument();
    await user.click(within(rowOf("server.properties")).getByRole("button", { name: "Actions" }));
    const menu = await screen.findByRole("menu");
    expect(within(menu).getAllByRole("menuitem").map((i) => i.textContent)).toEqual(["View", "Download"]);
  });

  it("shows names as plain text without file.read-content", async () => {
    renderFiles(volume(), { permissions: ["file.read"] });
    await screen.findByRole("table");
    expect(screen.queryByRole("button", { name: "server.properties" })).not.toBeInTheDocument();
    expect(screen.getByText("server.properties")).toBeInTheDocument();
  });

  it("explains the missing permission instead of listing", async () => {
    renderFiles(volume(), { permissions: ["server.console"] });
    expect(screen.getByText("No access to files")).toBeInTheDocument();
  });
});

describe("actions", () => {
  it("renames from the row menu", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(within(rowOf("server.properties")).getByRole("button", { name: "Actions" }));
    await user.click(await screen.findByRole("menuitem", { name: "Rename" }));
    const dialog = await screen.findByRole("dialog", { name: "Rename server.properties" });
    const input = within(dialog).getByLabelText("New name");
    await user.clear(input);
    await user.type(input, "old.properties{Enter}");
    expect(await screen.findByRole("button", { name: "old.properties" })).toBeInTheDocument();
    expect(v.calls("POST", "/rename")[0].body).toEqual({ from: "/server.properties", to: "/old.properties" });
    expect(screen.getByText("Renamed server.properties to old.properties")).toBeInTheDocument();
  });

  it("refuses a name that is taken before asking the API", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(screen.getByRole("button", { name: /New folder/ }));
    const dialog = await screen.findByRole("dialog", { name: "New folder" });
    await user.type(within(dialog).getByLabelText("Folder name"), "config{Enter}");
    expect(within(dialog).getByText("“config” already exists here.")).toBeInTheDocument();
    expect(v.calls("POST", "/mkdir")).toHaveLength(0);
    await user.clear(within(dialog).getByLabelText("Folder name"));
    await user.type(within(dialog).getByLabelText("Folder name"), "plugins{Enter}");
    expect(await screen.findByRole("link", { name: "plugins" })).toBeInTheDocument();
    expect(v.has("/plugins")).toBe(true);
  });

  it("deletes the selection after listing what goes", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(screen.getByRole("checkbox", { name: "Select world" }));
    await user.click(screen.getByRole("checkbox", { name: "Select server.jar" }));
    const bar = screen.getByRole("region", { name: "Selection" });
    expect(bar).toHaveTextContent("2 selected");
    await user.click(within(bar).getByRole("button", { name: /Delete/ }));
    const dialog = await screen.findByRole("alertdialog", { name: "Delete 2 items?" });
    expect(within(dialog).getByText("world")).toBeInTheDocument();
    expect(within(dialog).getByText(/folders go with everything in them/)).toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("link", { name: "world" })).not.toBeInTheDocument());
    expect(v.calls("POST", "/delete")[0].body).toEqual({ paths: ["/world", "/server.jar"] });
    expect(v.has("/world/level.dat")).toBe(false);
    expect(screen.queryByRole("region", { name: "Selection" })).not.toBeInTheDocument();
  });

  it("selects everything with the header box", async () => {
    const { user } = renderFiles(volume());
    await screen.findByRole("table");
    await user.click(screen.getByRole("checkbox", { name: "Select all" }));
    expect(screen.getByRole("region", { name: "Selection" })).toHaveTextContent("5 selected");
    await user.click(screen.getByRole("checkbox", { name: "Select all" }));
    expect(screen.queryByRole("region", { name: "Selection" })).not.toBeInTheDocument();
  });

  it("moves entries into another folder", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(screen.getByRole("checkbox", { name: "Select server.jar" }));
    await user.click(within(screen.getByRole("region", { name: "Selection" })).getByRole("button", { name: /Move/ }));
    const dialog = await screen.findByRole("dialog", { name: "Move server.jar" });
    const dest = within(dialog).getByLabelText("Destination folder");
    await user.clear(dest);
    await user.type(dest, "/world/jars{Enter}");
    await waitFor(() => expect(v.has("/world/jars/server.jar")).toBe(true));
    expect(v.calls("POST", "/rename")[0].body).toEqual({ from: "/server.jar", to: "/world/jars/server.jar" });
    expect(screen.queryByRole("button", { name: "server.jar" })).not.toBeInTheDocument();
  });

  it("says how far a batch got when one entry fails", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(screen.getByRole("checkbox", { name: "Select server.jar" }));
    await user.click(screen.getByRole("checkbox", { name: "Select server.properties" }));
    v.write("/config/server.properties", new Uint8Array());
    await user.click(within(screen.getByRole("region", { name: "Selection" })).getByRole("button", { name: /Move/ }));
    const dialog = await screen.findByRole("dialog", { name: "Move 2 items" });
    const dest = within(dialog).getByLabelText("Destination folder");
    await user.clear(dest);
    await user.type(dest, "config{Enter}");
    expect(await within(dialog).findByText("Moved 1 of 2; server.properties: /config/server.properties: it already exists")).toBeInTheDocument();
  });

  it("sets permissions with the boxes and the octal field in step", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(within(rowOf("server.properties")).getByRole("button", { name: "Actions" }));
    await user.click(await screen.findByRole("menuitem", { name: "Permissions" }));
    const dialog = await screen.findByRole("dialog", { name: "Permissions of server.properties" });
    const octal = within(dialog).getByLabelText("Mode (octal)");
    expect(octal).toHaveValue("0644");
    await user.click(within(dialog).getByRole("checkbox", { name: "owner execute" }));
    expect(octal).toHaveValue("0744");
    expect(within(dialog).getByText("-rwxr--r--")).toBeInTheDocument();
    await user.clear(octal);
    await user.type(octal, "600");
    expect(within(dialog).getByRole("checkbox", { name: "group read" })).not.toBeChecked();
    expect(within(dialog).getByRole("checkbox", { name: "owner write" })).toBeChecked();
    await user.clear(octal);
    await user.type(octal, "69");
    expect(within(dialog).getByText(/Enter 3 or 4 octal digits/)).toBeInTheDocument();
    await user.clear(octal);
    await user.type(octal, "640{Enter}");
    await waitFor(() => expect(v.calls("POST", "/chmod")).toHaveLength(1));
    expect(v.calls("POST", "/chmod")[0].body).toEqual({ path: "/server.properties", mode: "0640" });
  });

  it("archives the selection and unarchives an archive", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(screen.getByRole("checkbox", { name: "Select config" }));
    await user.click(screen.getByRole("checkbox", { name: "Select world" }));
    await user.click(within(screen.getByRole("region", { name: "Selection" })).getByRole("button", { name: /Archive/ }));
    const dialog = await screen.findByRole("dialog", { name: "Archive 2 items" });
    await user.type(within(dialog).getByLabelText("Archive name"), "backup");
    await user.selectOptions(within(dialog).getByLabelText("Format"), "zip");
    await user.click(within(dialog).getByRole("button", { name: "Create archive" }));
    expect(await screen.findByRole("button", { name: "backup.zip" })).toBeInTheDocument();
    expect(v.calls("POST", "/compress")[0].body).toEqual({ directory: "/", paths: ["config", "world"], format: "zip", name: "backup" });

    await user.click(within(rowOf("backup.zip")).getByRole("button", { name: "Actions" }));
    await user.click(await screen.findByRole("menuitem", { name: "Unarchive" }));
    const un = await screen.findByRole("dialog", { name: "Unarchive backup.zip" });
    const dest = within(un).getByLabelText("Destination folder");
    await user.clear(dest);
    await user.type(dest, "/restored{Enter}");
    await waitFor(() => expect(v.calls("POST", "/decompress")).toHaveLength(1));
    expect(v.calls("POST", "/decompress")[0].body).toEqual({ path: "/backup.zip", destination: "/restored" });
  });

  it("pulls a URL into the folder and checks the address first", async () => {
    const v = volume();
    const { user } = renderFiles(v, { url: `${base}/config` });
    await screen.findByRole("table");
    await user.click(screen.getByRole("button", { name: /Pull from URL/ }));
    const dialog = await screen.findByRole("dialog", { name: "Pull from URL" });
    await user.type(within(dialog).getByLabelText("URL"), "ftp://example.com/x.jar{Enter}");
    expect(within(dialog).getByText("Only http and https addresses can be pulled.")).toBeInTheDocument();
    await user.clear(within(dialog).getByLabelText("URL"));
    await user.type(within(dialog).getByLabelText("URL"), "https://example.com/dl/plugin.jar{Enter}");
    expect(await screen.findByRole("button", { name: "plugin.jar" })).toBeInTheDocument();
    expect(v.calls("POST", "/pull")[0].body).toEqual({ url: "https://example.com/dl/plugin.jar", directory: "/config" });
  });

  it("copies beside the original under a free name", async () => {
    const v = volume();
    const { user } = renderFiles(v);
    await screen.findByRole("table");
    await user.click(within(rowOf("server.properties")).getByRole("button", { name: "Actions" }));
    await user.click(await screen.findByRole("menuitem", { name: "Copy" }));
    const dialog = await screen.findByRole("dialog", { name: "Copy server.properties" });
    await user.click(within(dialog).getByRole("button", { name: "Copy" }));
    expect(await screen.findByRole("button", { name: "server copy.properties" })).toBeInTheDocument();
    expect(v.calls("POST", "/copy")[0].body).toEqual({ from: "/server.properties" });
  });
});

describe("uploads", () => {
  it("shows a bar per file while it uploads, then the file in the list", async () => {
    const v = volume();
    let release!: () => void;
    const gate = { wait: new Promise<void>((r) => (release = r)) };
    const restore = installUploads(v, gate);
    try {
      const { user } = renderFiles(v);
      await screen.findByRole("table");
      const input = screen.getByLabelText("Upload files");
      expect(input).toHaveAttribute("type", "file");
      expect(input).toHaveAttribute("multiple");
      await user.upload(input, [new File(["hello, notes"], "notes.txt", { type: "text/plain" }), new File(["{}"], "ops.json")]);
      const bar = await screen.findByRole("progressbar", { name: "Uploading notes.txt" });
      await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "50"));
      expect(screen.getByRole("progressbar", { name: "Uploading ops.json" })).toBeInTheDocument();
      await act(async () => release());
      expect(await screen.findByRole("button", { name: "notes.txt" })).toBeInTheDocument();
      expect(await screen.findByRole("button", { name: "ops.json" })).toBeInTheDocument();
      await waitFor(() => expect(screen.queryByRole("progressbar")).not.toBeInTheDocument());
      expect(v.text("/notes.txt")).toBe("hello, notes");
      expect(v.calls("POST", "/upload")).toHaveLength(2);
    } finally {
      restore();
    }
  });

  it("says readably when a file is too large, and keeps the others", async () => {
    const v = volume();
    v.uploadLimit = 10;
    const restore = installUploads(v);
    try {
      const { user } = renderFiles(v);
      await screen.findByRole("table");
      await user.upload(screen.getByLabelText("Upload files"), [new File(["0123456789abcdef"], "big.bin"), new File(["tiny"], "small.txt")]);
      expect(await screen.findByText("Too large: the panel takes at most 10 B per upload.")).toBeInTheDocument();
      expect(await screen.findByRole("button", { name: "small.txt" })).toBeInTheDocument();
      await user.click(screen.getByRole("button", { name: "Dismiss big.bin" }));
      expect(screen.queryByText(/Too large/)).not.toBeInTheDocument();
    } finally {
      restore();
    }
  });

  it("asks before replacing a file of the same name", async () => {
    const v = volume();
    const restore = installUploads(v);
    try {
      const { user } = renderFiles(v);
      await screen.findByRole("table");
      await user.upload(screen.getByLabelText("Upload files"), [new File(["new motd"], "server.properties")]);
      const dialog = await screen.findByRole("alertdialog", { name: "Replace existing files?" });
      expect(v.calls("POST", "/upload")).toHaveLength(0);
      await user.click(within(dialog).getByRole("button", { name: "Replace" }));
      await waitFor(() => expect(v.text("/server.properties")).toBe("new motd"));
    } finally {
      restore();
    }
  });

  it("cancels an upload that is running", async () => {
    const v = volume();
    const gate = { wait: new Promise<void>(() => undefined) };
    const restore = installUploads(v, gate);
    try {
      const { user } = renderFiles(v);
      await screen.findByRole("table");
      await user.upload(screen.getByLabelText("Upload files"), [new File(["x"], "slow.txt")]);
      await screen.findByRole("progressbar", { name: "Uploading slow.txt" });
      await user.click(screen.getByRole("button", { name: "Cancel upload of slow.txt" }));
      expect(screen.queryByRole("progressbar", { name: "Uploading slow.txt" })).not.toBeInTheDocument();
      expect(v.has("/slow.txt")).toBe(false);
    } finally {
      restore();
    }
  });

  it("uploads files dropped onto the list, folders with their paths", async () => {
    const v = volume();
    const restore = installUploads(v);
    try {
      renderFiles(v, { url: `${base}/config` });
      const table = await screen.findByRole("table");
      const zone = table.closest(".files-drop")!;
      const map = new File(["map data"], "arena.dat");
      const readme = new File(["read me"], "README.txt");
      // A dropped folder "maps" holding arena.dat and an empty folder "old".
      const fileEntry = (f: File) => ({ isFile: true, isDirectory: false, name: f.name, file: (ok: (f: File) => void) => ok(f) });
      const dirEntry = (name: string, kids: unknown[]) => {
        let read = false;
        return {
          isFile: false,
          isDirectory: true,
          name,
          createReader: () => ({
            readEntries: (ok: (e: unknown[]) => void) => {
              ok(read ? [] : kids);
              read = true;
            },
          }),
        };
      };
      // And an empty folder "plugins" that the server already has.
      v.mkdirs("/config/plugins");
      const entries = [dirEntry("maps", [fileEntry(map), dirEntry("old", [])]), fileEntry(readme), dirEntry("plugins", [])];
      const dataTransfer = {
        types: ["Files"],
        files: [readme],
        items: entries.map((e) => ({ kind: "file", webkitGetAsEntry: () => e })),
        dropEffect: "none",
      };
      fireEvent.dragEnter(zone, { dataTransfer });
      expect(zone).toHaveClass("files-drop-active");
      fireEvent.drop(zone, { dataTransfer });
      await waitFor(() => expect(v.text("/config/maps/arena.dat")).toBe("map data"));
      await waitFor(() => expect(v.text("/config/README.txt")).toBe("read me"));
      expect(v.nodes.get("/config/maps/old")?.dir).toBe(true);
      expect(v.calls("POST", "/mkdir").map((r) => r.body)).toEqual([{ path: "/config/maps/old" }, { path: "/config/plugins" }]);
      expect(screen.queryByText(/Could not create the folder/)).not.toBeInTheDocument();
      expect(await screen.findByRole("link", { name: "maps" })).toBeInTheDocument();
      expect(zone).not.toHaveClass("files-drop-active");
    } finally {
      restore();
    }
  });
});

describe("downloads", () => {
  it("hands a binary file to the browser through a ticketed link", async () => {
    const v = volume();
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.getAttribute("href") ?? "");
    });
    const { user } = renderFiles(v);
    await user.click(await screen.findByRole("button", { name: "server.jar" }));
    await waitFor(() => expect(clicked).toEqual(["/api/servers/srv-1/files/download?path=%2Fserver.jar&ticket=tk1"]));
    // Nothing went through the page's memory.
    expect(v.calls("GET", "/download")).toEqual([]);
  });
});
