/** Photo serving's checks live in images/media.ts, below results/, which reads photos through them too. */
export * from '../images/media.ts';
