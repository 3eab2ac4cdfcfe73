/** The one function of jstat (CommonJS, no bundled types) that hardy-mer uses. */
declare module 'jstat' {
  const jstat: { jStat: { studentt: { inv(p: number, dof: number): number } } };
  export default jstat;
}
