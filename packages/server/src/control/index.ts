/**
 * The local control channel. On PGlite only one process may open the data directory: the server
 * claims it (claim.ts), and a CLI started beside it sends its command to the server's control
 * route, which runs it in-process (commands.ts) — the same commands the CLI runs itself when no
 * server holds the directory.
 */
export {
  claimDataDir,
  DataDirBusyError,
  readControlFile,
  releaseDataDir,
  updateClaim,
} from './claim.ts';
export { type CliCommandName, runCliCommand } from './commands.ts';
export { CONTROL_HEADER, controlRoutes } from './routes.ts';
