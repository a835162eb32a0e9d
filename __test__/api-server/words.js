'use strict'
// Shell word splitting shared by the fake toolbox's command interpreters (./toolbox.js,
// ./process.js).

/** Minimal shell word splitting for the fake `process/execute` (quotes, backslash, $VAR). */
function shellWords(text, env) {
  const words = []
  let cur = null
  let i = 0
  const expand = (s) => s.replace(/\$(\w+)|\$\{(\w+)\}/g, (_, a, b) => env[a || b] ?? '')
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      if (cur !== null) words.push(cur)
      cur = null
      i++
    } else if (c === "'") {
      const j = text.indexOf("'", i + 1)
      cur = (cur || '') + text.slice(i + 1, j < 0 ? text.length : j)
      i = j < 0 ? text.length : j + 1
    } else if (c === '"') {
      let j = i + 1
      let s = ''
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++
        s += text[j++]
      }
      cur = (cur || '') + expand(s)
      i = j + 1
    } else if (c === '\\' && i + 1 < text.length) {
      cur = (cur || '') + text[i + 1]
      i += 2
    } else {
      let j = i
      while (j < text.length && !/[\s'"\\]/.test(text[j])) j++
      cur = (cur || '') + expand(text.slice(i, j))
      i = j
    }
  }
  if (cur !== null) words.push(cur)
  return words
}

module.exports = { shellWords }
