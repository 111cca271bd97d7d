import { useAuth } from "../auth/auth";
import { Loading } from "../ui/feedback";
import { ApiKeys } from "./account/ApiKeys";
import { Password } from "./account/Password";
import { Profile } from "./account/Profile";
import { SshKeys } from "./account/SshKeys";
import { TwoFactor } from "./account/TwoFactor";

/** Account is the signed-in user's own settings. */
export default function Account() {
  const { account } = useAuth();
  return (
    <div className="page">
      <div className="page-head">
        <h1>Account</h1>
      </div>
      {!account ? (
        <Loading />
      ) : (
        <div className="account-grid">
          <div className="card">
            <Profile key={account.email + account.username} account={account} />
          </div>
          <div className="card">
            <Password />
          </div>
          <div className="card span-all">
            <TwoFactor account={account} />
          </div>
          <div className="card span-all">
            <ApiKeys admin={account.admin} />
          </div>
          <div className="card span-all">
            <SshKeys />
          </div>
        </div>
      )}
    </div>
  );
}
