import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router";
import { createQueryClient } from "../api/queryClient";
import { createRoutes } from "../app/routes";
import type { PageRegistry } from "../app/pages";

/**
 * Render the real app (routes, guards, layouts) at a URL, in memory. Only the domain pages
 * passed are registered (none by default), so tests of the shell don't depend on which pages
 * exist; page tests pass PAGES or just their own page.
 */
export function renderApp(url: string, pages: PageRegistry = {}) {
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({ queries: { ...queryClient.getDefaultOptions().queries, retry: false } });
  const router = createMemoryRouter(createRoutes(pages), { initialEntries: [url] });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { ...view, router, queryClient };
}
