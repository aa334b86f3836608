import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createBrowserRouter } from "react-router";
import { App } from "./App";
import { setUnauthorizedHandler } from "./api/client";
import { createQueryClient } from "./api/queryClient";
import { createRoutes } from "./app/routes";
import { createUnauthorizedHandler } from "./auth/sessionExpiry";
import "./styles/global.css";

const queryClient = createQueryClient();
const router = createBrowserRouter(createRoutes());

setUnauthorizedHandler(
  createUnauthorizedHandler({
    queryClient,
    navigate: (to) => void router.navigate(to, { replace: true }),
    currentPath: () => `${router.state.location.pathname}${router.state.location.search}`,
  }),
);

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <App queryClient={queryClient} router={router} />
  </StrictMode>,
);
