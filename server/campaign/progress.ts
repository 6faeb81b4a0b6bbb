/**
 * The two-tone progress bar's geometry: received and pledged-but-unpaid as parts of a goal,
 * on a 0–1000 scale for the SVG (attributes, not inline styles, so the CSP stays strict).
 */
export type Progress = {
  receivedWidth: number;
  pledgedWidth: number;
  pledgedX: number;
  receivedPercent: number;
  pledgedPercent: number;
};

export function toProgress(receivedCents: number, pledgedCents: number, goalCents: number): Progress {
  const scale = 1000;
  const received = goalCents > 0 ? Math.min(scale, Math.round((Math.max(0, receivedCents) / goalCents) * scale)) : 0;
  const pledged = goalCents > 0 ? Math.min(scale - received, Math.round((Math.max(0, pledgedCents) / goalCents) * scale)) : 0;
  return {
    receivedWidth: received,
    pledgedWidth: pledged,
    pledgedX: received,
    receivedPercent: Math.floor(received / 10),
    pledgedPercent: Math.floor(pledged / 10),
  };
}

/**
 * What part of the goal was received, floored to a whole percent (99.6 % is not yet 100 %);
 * above 1 once the goal is passed. What the page and the share image say as "42%".
 */
export function fractionOfGoal(receivedCents: number, goalCents: number): number {
  return goalCents > 0 ? Math.floor((Math.max(0, receivedCents) * 100) / goalCents) / 100 : 0;
}
