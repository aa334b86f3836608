// The MSP portfolio: practices ranked by readiness and open incidents.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import type { PortfolioFilters } from "../pages/msp/portfolioFilters";
import { portfolioQuery } from "../pages/msp/portfolioFilters";

const getPortfolio = (filters: PortfolioFilters) =>
  unwrap(api.GET("/api/v1/portfolio", { params: { query: portfolioQuery(filters) } }));

export type PortfolioPage = Awaited<ReturnType<typeof getPortfolio>>;
export type PortfolioItem = PortfolioPage["items"][number];

export const portfolioKeys = {
  all: ["portfolio"] as const,
  list: (filters: PortfolioFilters) => ["portfolio", filters] as const,
};

export function usePortfolio(filters: PortfolioFilters) {
  // Keep the last list on screen while a new filter loads, so the table doesn't flash empty.
  return useQuery({ queryKey: portfolioKeys.list(filters), queryFn: () => getPortfolio(filters), placeholderData: keepPreviousData });
}
