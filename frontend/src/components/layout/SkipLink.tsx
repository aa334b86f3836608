/** First thing in the tab order: jump past the banner and navigation. */
export function SkipLink() {
  return (
    <a className="skip-link" href="#main">
      Skip to main content
    </a>
  );
}
