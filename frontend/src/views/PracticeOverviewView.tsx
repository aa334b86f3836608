import { useBackupJobs, useCallTree, useLinks, type CallTreeEntry } from "../api/inventory";
import { useSites } from "../api/practices";
import { EmptyState } from "../components/EmptyState";
import { Loading } from "../components/Loading";
import { ProblemMessage } from "../components/ProblemMessage";
import { formatMinutes, humanize } from "../lib/format";
import { usePracticeId } from "../practice/PracticeContext";

/** Sites, backup jobs, internet links and the call tree of one practice, as configured. */
export function PracticeOverviewView() {
  const practiceId = usePracticeId();
  const sites = useSites(practiceId);
  const jobs = useBackupJobs(practiceId);
  const links = useLinks(practiceId);
  const callTree = useCallTree(practiceId);
  const siteName = new Map((sites.data ?? []).map((s) => [s.id, s.name]));

  return (
    <>
      <section aria-labelledby="sites-heading">
        <h2 id="sites-heading">Sites</h2>
        {sites.isPending ? (
          <Loading label="Loading sites…" />
        ) : sites.isError ? (
          <ProblemMessage error={sites.error} />
        ) : sites.data.length === 0 ? (
          <EmptyState title="No sites yet" nextStep="Add the practice's first site (its office address) so an agent can be enrolled there." />
        ) : (
          <ul className="plain-list">
            {sites.data.map((s) => (
              <li key={s.id}>
                <strong>{s.name}</strong>
                {s.address && <> · {s.address}</>}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="jobs-heading">
        <h2 id="jobs-heading">Backup jobs</h2>
        {jobs.isPending ? (
          <Loading label="Loading backup jobs…" />
        ) : jobs.isError ? (
          <ProblemMessage error={jobs.error} />
        ) : jobs.data.length === 0 ? (
          <EmptyState title="No backup jobs yet" nextStep="Add the backup jobs that protect this practice's systems, so Seawall can watch them." />
        ) : (
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Backup jobs">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Where</th>
                  <th scope="col">Tool</th>
                  <th scope="col">Expected every</th>
                  <th scope="col">Protection</th>
                </tr>
              </thead>
              <tbody>
                {jobs.data.map((j) => (
                  <tr key={j.id}>
                    <th scope="row">{j.name}</th>
                    <td>{humanize(j.location)}{j.site_id && siteName.get(j.site_id) ? ` (${siteName.get(j.site_id)})` : ""}</td>
                    <td>{humanize(j.tool)}</td>
                    <td>{formatMinutes(j.expected_interval_minutes)}</td>
                    <td>{protectionWords(j)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="links-heading">
        <h2 id="links-heading">Internet links</h2>
        {links.isPending ? (
          <Loading label="Loading internet links…" />
        ) : links.isError ? (
          <ProblemMessage error={links.error} />
        ) : links.data.length === 0 ? (
          <EmptyState title="No internet links yet" nextStep="Add each site's internet connections (primary and backup) so outages and failovers are noticed." />
        ) : (
          <ul className="plain-list">
            {links.data.map((l) => (
              <li key={l.id}>
                <strong>{l.name}</strong> · {humanize(l.role)} · {humanize(l.medium)}
                {l.isp && <> · {l.isp}</>} · {siteName.get(l.site_id) ?? "unknown site"}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="calltree-heading">
        <h2 id="calltree-heading">Call tree</h2>
        {callTree.isPending ? (
          <Loading label="Loading the call tree…" />
        ) : callTree.isError ? (
          <ProblemMessage error={callTree.error} />
        ) : callTree.data.length === 0 ? (
          <EmptyState title="No contacts yet" nextStep="Add who to call in a disaster, in order, with an alternate for each." />
        ) : (
          <CallTree entries={callTree.data} />
        )}
      </section>
    </>
  );
}

function protectionWords(j: { encrypted: boolean; immutable: boolean; verifies: boolean }): string {
  const words = [j.encrypted && "encrypted", j.immutable && "immutable", j.verifies && "verified"].filter(Boolean);
  return words.length > 0 ? words.join(", ") : "none recorded";
}

function CallTree({ entries }: { entries: readonly CallTreeEntry[] }) {
  return (
    <ol className="call-tree">
      {entries.map((c) => (
        <li key={c.id}>
          <strong>{c.name}</strong>
          {c.role_title && <> · {c.role_title}</>}
          {c.phone && (
            <>
              {" "}
              · <a href={`tel:${c.phone}`}>{c.phone}</a>
            </>
          )}
          {c.alternates && c.alternates.length > 0 && (
            <>
              <span className="visually-hidden">If unreachable, call:</span>
              <span aria-hidden="true" className="call-tree__alt-label"> If unreachable:</span>
              <CallTree entries={c.alternates} />
            </>
          )}
        </li>
      ))}
    </ol>
  );
}
