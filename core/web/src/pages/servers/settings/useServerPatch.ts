import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useApi } from "../../../api/context";
import type { Server } from "../../../api/types";

/** useServerPatch changes a server (PATCH /api/servers/:id) and has the
 * server view and the list load it again. */
export function useServerPatch(serverId: string, onDone?: (s: Server) => void) {
  const api = useApi();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: object) => api.patch<Server>(`/api/servers/${serverId}`, body),
    onSuccess: (s) => {
      // The answer lacks the caller's SFTP details: load the server again
      // rather than keep it.
      qc.invalidateQueries({ queryKey: ["server", serverId], exact: true });
      qc.invalidateQueries({ queryKey: ["servers"] });
      onDone?.(s);
    },
  });
}


