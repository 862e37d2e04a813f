import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Navigate, RouterProvider, useParams } from 'react-router';
import { ApiError, setUnauthorizedHandler } from './api.ts';
import { AllTenants } from './pages/AllTenants.tsx';
import { Bots } from './pages/bots/Bots.tsx';
import { CustomerProfileView, Customers } from './pages/Customers.tsx';
import { Escalations } from './pages/Escalations.tsx';
import { Inbox } from './pages/inbox/Inbox.tsx';
import { Login } from './pages/Login.tsx';
import { Orders } from './pages/Orders.tsx';
import { Settings } from './pages/Settings.tsx';
import { Home, NotFound, NotFoundMessage, RequireLogin, TenantShell } from './shell.tsx';
import { Skeleton } from './ui.tsx';
import './styles.css';

// The charts library is the heaviest dependency: it loads with the Overview or Sync, not before.
const Overview = lazy(() => import('./pages/Overview.tsx'));
const Sync = lazy(() => import('./pages/sync/Sync.tsx'));

const client = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      retry: (failures, error) =>
        failures < 3 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      retryDelay: (attempt) => Math.min(500 * 2 ** attempt, 4000),
    },
  },
});
setUnauthorizedHandler(() => client.invalidateQueries({ queryKey: ['me'] }));

const router = createBrowserRouter([
  { path: '/login', element: <Login /> },
  {
    element: <RequireLogin />,
    children: [
      { index: true, element: <Home /> },
      { path: 'all', element: <AllTenants /> },
      {
        path: 't/:tenant',
        element: <TenantShell />,
        children: [
          { index: true, element: <Navigate to="overview" replace /> },
          {
            path: 'overview',
            element: (
              <Suspense fallback={<Skeleton rows={4} height={120} />}>
                <Overview />
              </Suspense>
            ),
          },
          { path: 'inbox', element: <Inbox /> },
          { path: 'inbox/:conversationId', element: <Inbox /> },
          { path: 'customers', element: <Customers /> },
          { path: 'customers/:customerId', element: <CustomerProfileView /> },
          { path: 'orders', element: <Orders /> },
          { path: 'escalations', element: <Escalations /> },
          { path: 'bots', element: <Bots /> },
          {
            path: 'sync/*',
            element: (
              <Suspense fallback={<Skeleton rows={4} height={90} />}>
                <Sync />
              </Suspense>
            ),
          },
          { path: 'settings', element: <Settings /> },
          { path: '*', element: <TenantNotFound /> },
        ],
      },
    ],
  },
  // Outside RequireLogin: a mistyped link says so, logged in or not (the server answers it 404).
  { path: '*', element: <NotFound /> },
]);

function TenantNotFound() {
  const { tenant } = useParams();
  return <NotFoundMessage to={`/t/${tenant}/overview`} label="Back to the overview" />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
