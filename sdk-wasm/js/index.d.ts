/** The current session id: a random UUID v4 shared by the page loads of one visit. */
export function getSessionId(): string;

/** All of the SDK's functions on one object. */
export declare const usertrail: {
  readonly getSessionId: typeof getSessionId;
};
