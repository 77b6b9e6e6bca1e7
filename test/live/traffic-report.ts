/** What test/live/fixtures/traffic.ts prints when it is done: its pids and ports (the ground truth). */
export interface Traffic {
  serverPid: number;
  clientPid: number;
  port4: number;
  port6: number;
  closedPort: number;
  accepted: number;
  clientExit?: number | null;
  clientResult: { refused?: string } | null;
}
