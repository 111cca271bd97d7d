import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useApi } from "../api/context";
import type { Account } from "../api/types";

interface AuthState {
  signedIn: boolean;
  /** The signed-in user, once loaded. */
  account: Account | undefined;
  loading: boolean;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

/** AuthProvider follows the API client's session: signing out anywhere
 * (logout, a refresh token that stopped working) clears every cached
 * answer so the next user sees none of them. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const qc = useQueryClient();
  const [signedIn, setSignedIn] = useState(api.signedIn);
  useEffect(
    () =>
      api.onSession((s) => {
        setSignedIn(s !== null);
        if (!s) qc.clear();
      }),
    [api, qc],
  );
  const account = useQuery({
    queryKey: ["account"],
    queryFn: ({ signal }) => api.get<Account>("/api/account", { signal }),
    enabled: signedIn,
    staleTime: 60_000,
  });
  const state: AuthState = {
    signedIn,
    account: signedIn ? account.data : undefined,
    loading: signedIn && account.isPending,
    logout: () => api.logout(),
  };
  return <AuthContext.Provider value={state}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}
