namespace Blip.Actors.Vms;

/// <summary>Registry key of the node's <see cref="VmInventory"/>.</summary>
public sealed class VmInventoryKey;
