import type { ReactNode } from "react";

interface EmptyStateProps {
  title: string;
  /** What the person should do next — an empty screen always says it. */
  nextStep: ReactNode;
  action?: ReactNode;
}

export function EmptyState({ title, nextStep, action }: EmptyStateProps) {
  return (
    <section className="empty-state" aria-label={title}>
      <h2>{title}</h2>
      <p>{nextStep}</p>
      {action && <div className="empty-state__action">{action}</div>}
    </section>
  );
}
