export async function render(root) { root.textContent = 'Coming soon'; }
