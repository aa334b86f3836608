interface LoadingProps {
  label?: string;
}

/** A polite, announced loading indicator; the spinner stops for people who ask for less motion. */
export function Loading({ label = "Loading…" }: LoadingProps) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="loading__spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
