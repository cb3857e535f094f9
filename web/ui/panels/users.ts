// The users table and its pager.
import { api } from '../api.js'
import type { UserPage } from '../api-types.js'
import { $, el } from '../dom.js'
import { dateFormat, numberFormat } from '../format.js'
import { USERS_EVERY } from '../timing.js'

const USERS_PAGE = 10

// Keyset paging: the cursor each visited page started from (null: the first page), so that
// "previous" goes back exactly and "next" costs the same at any depth.
let pageCursors: (string | null)[] = [null]
let nextCursor: string | null = null
/** Reload the users on the next poll (set after a failure or a change of the services' state). */
let usersDue = true

let usersRequest = 0

export function markUsersDue(): void {
  usersDue = true
}

/** Called by every poll: users are reloaded when due, and every USERS_EVERY polls anyway. */
export async function refreshUsersIfDue(polls: number): Promise<void> {
  if (usersDue || polls % USERS_EVERY === 0) {
    usersDue = false
    await loadUsers()
  }
}

export async function loadUsers(): Promise<void> {
  // Paging and polling can overlap: only the answer to the latest request is shown.
  const mine = ++usersRequest
  const cursor = pageCursors[pageCursors.length - 1] ?? null
  const query = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`
  const reply = await api<UserPage>(`/users?limit=${USERS_PAGE}${query}`)
  if (mine !== usersRequest) return
  const error = $('users-error')
  const badge = $('users-source')
  if (!reply.ok) {
    // Try again on the next poll rather than wait for the next scheduled users refresh.
    usersDue = true
    error.hidden = false
    error.textContent = `Could not load users: ${reply.message}`
    badge.dataset.source = 'error'
    badge.textContent = 'unavailable'
    return
  }
  error.hidden = true
  const page = reply.body
  if (page.users.length === 0 && pageCursors.length > 1 && page.total > 0) {
    // The page emptied (users were deleted): go back to the previous one.
    pageCursors.pop()
    return loadUsers()
  }
  nextCursor = page.next_cursor
  badge.dataset.source = page.cached ? 'cache' : 'db'
  badge.textContent = page.cached ? 'from cache' : 'from PostgreSQL'
  renderRows(page)
  // Rows before this page, counted as full pages: exact unless users were deleted meanwhile.
  const skipped = (pageCursors.length - 1) * USERS_PAGE
  const first = page.users.length === 0 ? 0 : skipped + 1
  const last = skipped + page.users.length
  $('users-range').textContent = `${first}–${last} of ${numberFormat.format(page.total)}`
  $<HTMLButtonElement>('users-prev').disabled = pageCursors.length === 1
  $<HTMLButtonElement>('users-next').disabled = nextCursor === null
}

function renderRows(page: UserPage): void {
  const body = $('users-body')
  if (page.users.length === 0) {
    body.replaceChildren(el('tr', {}, ''))
    const row = body.firstElementChild as HTMLTableRowElement
    row.append(el('td', { colspan: '4', class: 'muted' }, 'No users yet.'))
    return
  }
  body.replaceChildren(
    ...page.users.map((user) => {
      const row = el('tr', { 'data-user-id': String(user.id) })
      const created = new Date(user.created_at)
      const name = el('td', { class: 'username' })
      // On a phone the email column is hidden and the address shows under the username.
      name.append(el('span', {}, user.username), el('span', { class: 'email-inline' }, user.email))
      row.append(
        el('td', { class: 'num' }, String(user.id)),
        name,
        el('td', { class: 'email col-email' }, user.email),
        el('td', { class: 'col-created' }, '')
      )
      row.lastElementChild?.append(
        el('time', { datetime: user.created_at, title: created.toISOString() }, dateFormat.format(created))
      )
      return row
    })
  )
}

export function wireUsersPager(): void {
  $('users-prev').addEventListener('click', () => {
    if (pageCursors.length > 1) pageCursors.pop()
    void loadUsers()
  })
  $('users-next').addEventListener('click', () => {
    if (nextCursor !== null) pageCursors = [...pageCursors, nextCursor]
    void loadUsers()
  })
}
