/** The test cannot run (unknown backend, a fault the backend cannot do, ...): exit code 3. */
export class RunSetupError extends Error {
  override readonly name = 'RunSetupError';
}

/** A bug in faultline stopped the run: the CLI exits 4 and points at the log with the stack. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
  constructor(
    message: string,
    /** The file holding the stack trace. */
    readonly logFile: string,
  ) {
    super(message);
  }
}

export const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
