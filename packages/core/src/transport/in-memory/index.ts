// Public exports of the in-memory transport (re-exported by the package index).
export {};
